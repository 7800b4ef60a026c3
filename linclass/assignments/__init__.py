"""The assignments the kit knows, one package each (see docs/adding-an-assignment.md)."""
