"""CCRM dispatch service."""
