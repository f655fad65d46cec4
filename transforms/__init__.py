"""Reading and standardizing the source extracts: pure, vectorized functions on columns."""
