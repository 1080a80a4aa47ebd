"""Pure scoring rules: periods, rule versions, capped awards and competition ranks. No I/O."""
