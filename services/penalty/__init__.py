"""CCRM penalty service."""
