"""One module per area. Resolvers call server.services, never models' queries directly."""
