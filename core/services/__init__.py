"""Use cases, one function each: ``fn(uow, actor, ...)`` runs one transaction, checks the
actor's permission first (``core.permissions.requires``), and returns plain data."""
