"""Helpers every package uses: atomic file writes, the command-line parser and its error conventions, and the
resource limits that keep small inputs from demanding huge memory."""
