"""CCRM media service."""
