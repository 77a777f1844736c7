"""CCRM sla service."""
