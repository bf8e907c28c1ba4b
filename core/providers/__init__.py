"""AI providers behind one small interface (``base.Provider``): OpenAI and a local offline
provider. ``registry.provider_for`` builds the right one for a provider connection."""
