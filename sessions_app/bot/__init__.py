"""The FAQ bot's engine: text, intent and matching, in plain Python (docs/bot.md)."""
