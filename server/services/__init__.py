"""One async function per use case: authorization, transaction, locking, audit, enqueue-after-commit.

The only writers of the database.
"""
