"""Dataset descriptors by convention, one module each: what a descriptor declares, as records.

Readers here only describe a descriptor file; `inspection/` decides which components they make.
"""
