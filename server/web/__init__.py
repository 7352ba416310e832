"""HTMX views: run a GraphQL operation in-process, render a page or a fragment."""
