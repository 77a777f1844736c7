"""CCRM gateway service."""
