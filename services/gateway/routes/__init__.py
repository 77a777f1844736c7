"""Route mixins of the gateway, one module per area."""
