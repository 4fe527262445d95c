"""The servicer's console: its page, websocket consumer, APIs and the reads behind them."""
