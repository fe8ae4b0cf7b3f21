"""The processing slip's workflow: states, actions and who may take them. Pure Python."""
