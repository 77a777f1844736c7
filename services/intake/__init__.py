"""CCRM intake service."""
