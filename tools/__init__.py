"""Developer and operator tools that run beside the services (the demo city generator)."""
