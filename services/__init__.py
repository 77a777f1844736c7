"""CCRM services. Importing `shared` first sets what every service relies on
(psycopg wait function, warning filters)."""
import shared  # noqa: F401
