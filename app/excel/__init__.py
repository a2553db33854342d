"""Reading and writing the official Excel formats (openpyxl)."""
