"""Reflex pages, components and states. Handlers stay thin: they call services."""
