"""Hold every query and write; one module per group of tables."""
