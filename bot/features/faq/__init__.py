"""FAQ: admin-written answers matched against members' questions."""
