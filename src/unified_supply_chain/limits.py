"""Resource caps applied to untrusted input. One place, so each limit is visible and testable."""

from __future__ import annotations

#: Bytes read from the start of a file to classify it by content.
SNIFF_BYTES = 512
#: Largest safetensors JSON header we accept (the format itself caps it at 100 MB; we are stricter).
MAX_SAFETENSORS_HEADER = 64 * 1024 * 1024
#: Largest GGUF key/value count and tensor count we walk.
MAX_GGUF_KV = 100_000
MAX_GGUF_TENSORS = 1_000_000
#: Largest single GGUF string we read into memory (longer ones are skipped by seeking).
MAX_GGUF_STRING = 1024 * 1024
#: Largest array of a GGUF metadata value we read element by element.
MAX_GGUF_ARRAY_READ = 4096
#: ONNX: bytes of protobuf we parse outside of tensor raw data.
MAX_ONNX_META_BYTES = 64 * 1024 * 1024
#: Zip archives: members, total declared uncompressed size, and compression ratio per member.
MAX_ZIP_MEMBERS = 100_000
MAX_ZIP_MEMBER_READ = 64 * 1024 * 1024
MAX_ZIP_RATIO = 200
#: Largest JSON/YAML text file we parse (config, params, model card front matter, lockfiles).
MAX_TEXT_PARSE = 32 * 1024 * 1024
#: Deepest JSON nesting we accept.
MAX_JSON_DEPTH = 200
#: YAML anchors/aliases: more alias uses than this is treated as an alias bomb.
MAX_YAML_ALIASES = 1_000
#: Values in one parsed JSON/YAML document once aliases are expanded.
MAX_PARSED_NODES = 1_000_000
#: Largest .npy header.
MAX_NPY_HEADER = 1024 * 1024
#: Rows counted in a CSV cheaply: files larger than this get no row count.
MAX_ROWCOUNT_BYTES = 256 * 1024 * 1024
#: Wall-clock budget for inspecting one file, in seconds.
PER_FILE_SECONDS = 30.0
#: Flattened hyperparameters kept per set.
MAX_PARAMS = 10_000
