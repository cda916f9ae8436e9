"""Jingzhun: the education precision poverty alleviation platform."""
