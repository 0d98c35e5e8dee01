"""The store: tables, the engine (SQLite by default, PostgreSQL for many machines), migrations,
and syncing the declared org into it."""
