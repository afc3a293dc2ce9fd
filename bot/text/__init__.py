"""Text understanding shared by features: normalization, thanks and question detection, FAQ
matching. Nothing here downloads data at run time."""
