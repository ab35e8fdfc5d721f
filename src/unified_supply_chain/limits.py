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
#: Requirements files: depth of `-r` includes we follow.
MAX_REQUIREMENTS_INCLUDE_DEPTH = 8
#: Libraries read from one manifest (with its includes).
MAX_MANIFEST_ENTRIES = 100_000
#: Hydra: levels of nested defaults lists we follow (primary = level 1).
MAX_HYDRA_DEPTH = 3
#: Hydra: config files composed into one set.
MAX_HYDRA_FILES = 1_000
#: CSV/JSONL: bytes read to find the header line or first record.
MAX_DATASET_HEADER_BYTES = 1024 * 1024
#: CSV with quoted fields: files up to this size get an exact record count with the csv module.
MAX_CSV_RECORD_COUNT_BYTES = 32 * 1024 * 1024
#: Parquet: largest footer (Thrift FileMetaData) we parse.
MAX_PARQUET_FOOTER = 32 * 1024 * 1024
#: Parquet: schema elements we read.
MAX_PARQUET_SCHEMA = 100_000
#: Arrow IPC: largest footer we parse.
MAX_ARROW_FOOTER = 16 * 1024 * 1024
#: Dataset descriptors: URLs kept per dataset.
MAX_DESCRIPTOR_URLS = 1_000
#: Zip archives: largest central directory we read to count members before opening.
MAX_ZIP_CENTRAL_DIRECTORY = 64 * 1024 * 1024
#: Pickle opcode walks (never an unpickling): opcodes walked, and largest argument kept in memory
#: (longer string/bytes arguments, i.e. weight data, are skipped by seeking).
MAX_PICKLE_OPCODES = 2_000_000
MAX_PICKLE_ARG_READ = 64 * 1024
#: Decompressed bytes of a compressed joblib file walked for opcode metadata.
MAX_PICKLE_DECOMPRESS = 64 * 1024 * 1024
#: Largest TorchServe MAR-INF/MANIFEST.json read (named for the HDF5 sniff it once also bounded).
MAX_HDF5_SNIFF = 4 * 1024 * 1024
#: HDF5: bytes of metadata (object headers, attributes, global heap) read for the root group.
MAX_HDF5_METADATA = 32 * 1024 * 1024
#: TensorFlow SavedModel: largest saved_model.pb walked.
MAX_SAVED_MODEL_PB = 256 * 1024 * 1024
#: GGUF: longest string array we walk (token lists and merges are a few 100k long in practice).
MAX_GGUF_STRING_ARRAY = 4_000_000
#: GGUF: longest chat template kept in properties (longer is cut) and parsed by the security
#: scanner (longer is HIGH "could not be verified").
MAX_GGUF_CHAT_TEMPLATE = 256 * 1024
#: Metrics files: largest file read and most metrics kept from one file.
MAX_METRICS_FILE = 16 * 1024 * 1024
MAX_METRICS = 10_000
#: DVC: stages generated from one dvc.yaml (after foreach/matrix expansion), and files read.
MAX_DVC_STAGES = 10_000
#: MLflow: runs read from committed mlruns/ trees, and lines read from one metric history file.
MAX_MLFLOW_RUNS = 10_000
MAX_MLFLOW_METRIC_LINES = 1_000_000
#: Lockfiles: packages read from one lockfile.
MAX_LOCK_PACKAGES = 100_000
#: SBOM merge: largest input document and most components taken from one input.
MAX_MERGE_BYTES = 256 * 1024 * 1024
MAX_MERGE_COMPONENTS = 500_000
#: ONNX: protobuf fields walked outside tensor data (a 50k-node graph needs well under 1M).
MAX_ONNX_FIELDS = 4_000_000
#: Parquet: footers larger than this are read only up to the row-group list (writer name skipped).
MAX_PARQUET_FULL_PARSE = 1024 * 1024
#: Files up to this size whose MD5 a DVC record declares are re-digested to check the record.
MAX_MD5_VERIFY_BYTES = 256 * 1024 * 1024
#: One-line problems reported per file; further ones are counted in one last line.
MAX_PROBLEMS_PER_FILE = 20
#: Archives inside archives (a torch zip in a TorchServe .mar in a tar) scanned before giving up.
MAX_ARCHIVE_DEPTH = 4
#: Archives: members whose first bytes the reader probes to decide what the archive carries.
MAX_ARCHIVE_PROBES = 1_000
#: Core ML: bytes of protobuf we read outside of weights (names, metadata), and fields walked.
MAX_COREML_META_BYTES = 16 * 1024 * 1024
MAX_COREML_FIELDS = 4_000_000
#: Flax msgpack: bytes read outside array buffers (keys, shapes, small values), objects visited,
#: and the nesting depth of maps and arrays.
MAX_MSGPACK_META_BYTES = 64 * 1024 * 1024
MAX_MSGPACK_OBJECTS = 4_000_000
MAX_MSGPACK_DEPTH = 128
#: LightGBM text models: largest header (up to its first blank line) and parameters tail read.
MAX_LIGHTGBM_HEADER = 16 * 1024 * 1024
MAX_LIGHTGBM_TAIL = 256 * 1024
#: Tree models without a tree size table: bytes scanned to count their trees.
MAX_TREE_COUNT_SCAN = 64 * 1024 * 1024
#: PMML: largest document streamed through the XML parser.
MAX_PMML_BYTES = 128 * 1024 * 1024
#: CatBoost .cbm: largest flatbuffers model core parsed (larger ones are recognised only).
MAX_CATBOOST_CORE = 64 * 1024 * 1024
#: ExecuTorch: bytes of the program flatbuffer read (tables, names; never constant data).
MAX_PTE_META_BYTES = 16 * 1024 * 1024
#: OpenVINO IR: bytes of the `.xml` network description parsed.
MAX_OPENVINO_XML = 64 * 1024 * 1024
#: PaddlePaddle `.pdmodel`: bytes of the ProgramDesc protobuf read (names, types; it holds no
#: weights) and protobuf fields walked.
MAX_PADDLE_PROGRAM_BYTES = 64 * 1024 * 1024
MAX_PADDLE_FIELDS = 4_000_000
#: Tar and 7z archives: bytes inflated from one compressed archive by the reader or the scan.
MAX_ARCHIVE_INFLATE = 4 * 1024 * 1024 * 1024
#: Training logs (Lightning, Keras, W&B, TensorBoard): run directories read per repository.
MAX_TRAINING_LOG_RUNS = 10_000
#: Lightning `metrics.csv`: rows streamed (only the latest value per column is kept).
MAX_LOG_METRIC_ROWS = 1_000_000
#: TensorBoard event files: records walked, record payloads larger than this are seeked over
#: unread (hparams summaries are a few kB), and payload bytes read in all.
MAX_TFEVENTS_RECORDS = 1_000_000
MAX_TFEVENTS_RECORD = 1024 * 1024
MAX_TFEVENTS_BYTES = 64 * 1024 * 1024
