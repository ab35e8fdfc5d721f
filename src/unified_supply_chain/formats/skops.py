"""skops `.skops` files: a zip whose `schema.json` describes every object, arrays as `.npy`.

Layout (skops-dev/skops skops/io/_persist.py `dump`, _general.py, _numpy.py, _sklearn.py): the
top-level node of `schema.json` is the estimator (`__class__`, `__module__`, `__loader__`,
`content`) plus `protocol` and `_skops_version`; children nest under `content` and friends.

`skops.io.load` refuses every type outside its default trusted set unless `trusted=` lists it.
That set is rebuilt here without importing scikit-learn (skops/io/_trusted_types.py and each
node class's `_get_trusted` default): per loader, the exact names or, for estimators, the shape
of a public scikit-learn estimator's name. Anything else is reported: it needs `trusted=` and
could not be verified safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_supply_chain import limits, safeparse
from unified_supply_chain.errors import FormatError, UscError
from unified_supply_chain.formats._zip import ZipReader
from unified_supply_chain.records import Finding, HeaderInfo, Severity

SCHEMA = "schema.json"
#: Untrusted type names listed in properties and findings.
MAX_LISTED_TYPES = 50


def _names(prefix: str, words: str) -> frozenset[str]:
    """`prefix + word` for each space-separated word (tables kept compact, as skops lists them)."""
    return frozenset(prefix + word for word in words.split())


_PRIMITIVES = _names("builtins.", "int float str bool")
_CONTAINERS = _names("builtins.", "list set map tuple")
#: numpy scalar types (NUMPY_DTYPE_TYPE_NAMES of skops, numpy 2.x).
_NUMPY_DTYPES = _names(
    "numpy.",
    "bool bool_ bytes_ clongdouble complex128 complex64 datetime64 float16 float32 float64 int16 "
    "int32 int64 int8 longdouble longlong object_ str_ timedelta64 uint16 uint32 uint64 uint8 "
    "ulonglong void ",
)
#: Public numpy ufuncs (NUMPY_UFUNC_TYPE_NAMES of skops, numpy 2.x).
_NUMPY_UFUNCS = _names(
    "numpy.",
    "absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and bitwise_count "
    "bitwise_or bitwise_xor cbrt ceil conjugate copysign cos cosh deg2rad degrees divide divmod "
    "equal exp exp2 expm1 fabs float_power floor floor_divide fmax fmin fmod frexp gcd greater "
    "greater_equal heaviside hypot invert isfinite isinf isnan isnat lcm ldexp left_shift less "
    "less_equal log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or "
    "logical_xor matmul matvec maximum minimum modf multiply negative nextafter not_equal "
    "positive power rad2deg radians reciprocal remainder right_shift rint sign signbit sin sinh "
    "spacing sqrt square subtract tan tanh trunc vecdot vecmat ",
)
#: Modules whose every member skops trusts as a function (scipy.special's ufunc modules).
_SCIPY_UFUNC_MODULES = ("scipy.special._ufuncs", "scipy.special._special_ufuncs")
#: Sub-packages that hold scikit-learn's public estimators (`sklearn.utils.all_estimators`).
_SKLEARN_ESTIMATOR_PACKAGES = _names(
    "",
    "calibration cluster compose covariance cross_decomposition decomposition "
    "discriminant_analysis dummy ensemble feature_extraction feature_selection frozen "
    "gaussian_process impute isotonic kernel_approximation kernel_ridge linear_model manifold "
    "mixture model_selection multiclass multioutput naive_bayes neighbors neural_network pipeline "
    "preprocessing random_projection semi_supervised svm tree ",
)
_SKLEARN_ESTIMATOR = re.compile(r"^sklearn\.([a-z_]+)(\.[a-z_][a-z0-9_]*)*\.[A-Z][A-Za-z0-9]*$")
#: Public scikit-learn estimator class names (`sklearn.utils.all_estimators`, scikit-learn 1.9).
_SKLEARN_ESTIMATOR_NAMES = _names(
    "",
    "ARDRegression AdaBoostClassifier AdaBoostRegressor AdditiveChi2Sampler AffinityPropagation "
    "AgglomerativeClustering BaggingClassifier BaggingRegressor BayesianGaussianMixture "
    "BayesianRidge BernoulliNB BernoulliRBM Binarizer Birch BisectingKMeans CCA "
    "CalibratedClassifierCV CategoricalNB ClassicalMDS ClassifierChain ColumnTransformer "
    "ComplementNB CountVectorizer DBSCAN DecisionTreeClassifier DecisionTreeRegressor "
    "DictVectorizer DictionaryLearning DummyClassifier DummyRegressor ElasticNet ElasticNetCV "
    "EllipticEnvelope EmpiricalCovariance ExtraTreeClassifier ExtraTreeRegressor "
    "ExtraTreesClassifier ExtraTreesRegressor FactorAnalysis FastICA FeatureAgglomeration "
    "FeatureHasher FeatureUnion FixedThresholdClassifier FrozenEstimator FunctionTransformer "
    "GammaRegressor GaussianMixture GaussianNB GaussianProcessClassifier GaussianProcessRegressor "
    "GaussianRandomProjection GenericUnivariateSelect GradientBoostingClassifier "
    "GradientBoostingRegressor GraphicalLasso GraphicalLassoCV GridSearchCV HDBSCAN "
    "HashingVectorizer HistGradientBoostingClassifier HistGradientBoostingRegressor "
    "HuberRegressor IncrementalPCA IsolationForest Isomap IsotonicRegression KBinsDiscretizer "
    "KMeans KNNImputer KNeighborsClassifier KNeighborsRegressor KNeighborsTransformer "
    "KernelCenterer KernelDensity KernelPCA KernelRidge LabelBinarizer LabelEncoder "
    "LabelPropagation LabelSpreading Lars LarsCV Lasso LassoCV LassoLars LassoLarsCV LassoLarsIC "
    "LatentDirichletAllocation LedoitWolf LinearDiscriminantAnalysis LinearRegression LinearSVC "
    "LinearSVR LocalOutlierFactor LocallyLinearEmbedding LogisticRegression LogisticRegressionCV "
    "MDS MLPClassifier MLPRegressor MaxAbsScaler MeanShift MinCovDet MinMaxScaler "
    "MiniBatchDictionaryLearning MiniBatchKMeans MiniBatchNMF MiniBatchSparsePCA MissingIndicator "
    "MultiLabelBinarizer MultiOutputClassifier MultiOutputRegressor MultiTaskElasticNet "
    "MultiTaskElasticNetCV MultiTaskLasso MultiTaskLassoCV MultinomialNB NMF NearestCentroid "
    "NearestNeighbors NeighborhoodComponentsAnalysis Normalizer NuSVC NuSVR Nystroem OAS OPTICS "
    "OneClassSVM OneHotEncoder OneVsOneClassifier OneVsRestClassifier OrdinalEncoder "
    "OrthogonalMatchingPursuit OrthogonalMatchingPursuitCV OutputCodeClassifier PCA PLSCanonical "
    "PLSRegression PLSSVD PassiveAggressiveClassifier PassiveAggressiveRegressor PatchExtractor "
    "Perceptron Pipeline PoissonRegressor PolynomialCountSketch PolynomialFeatures "
    "PowerTransformer QuadraticDiscriminantAnalysis QuantileRegressor QuantileTransformer "
    "RANSACRegressor RBFSampler RFE RFECV RadiusNeighborsClassifier RadiusNeighborsRegressor "
    "RadiusNeighborsTransformer RandomForestClassifier RandomForestRegressor RandomTreesEmbedding "
    "RandomizedSearchCV RegressorChain Ridge RidgeCV RidgeClassifier RidgeClassifierCV "
    "RobustScaler SGDClassifier SGDOneClassSVM SGDRegressor SVC SVR SelectFdr SelectFpr "
    "SelectFromModel SelectFwe SelectKBest SelectPercentile SelfTrainingClassifier "
    "SequentialFeatureSelector ShrunkCovariance SimpleImputer SkewedChi2Sampler SparseCoder "
    "SparsePCA SparseRandomProjection SpectralBiclustering SpectralClustering "
    "SpectralCoclustering SpectralEmbedding SplineTransformer StackingClassifier "
    "StackingRegressor StandardScaler TSNE TargetEncoder TfidfTransformer TfidfVectorizer "
    "TheilSenRegressor TransformedTargetRegressor TruncatedSVD TunedThresholdClassifierCV "
    "TweedieRegressor VarianceThreshold VotingClassifier VotingRegressor ",
)
#: Internal scikit-learn types skops trusts (SKLEARN_INTERNAL_TYPE_NAMES).
_SKLEARN_INTERNAL = (
    _names(
        "sklearn._loss.link.",
        "HalfLogitLink IdentityLink Interval LogitLink LogLink MultinomialLogit",
    )
    | _names(
        "sklearn._loss.loss.",
        "AbsoluteError ExponentialLoss HalfBinomialLoss HalfGammaLoss HalfMultinomialLoss "
        "HalfPoissonLoss HalfSquaredError HuberLoss PinballLoss ",
    )
    | {"sklearn.ensemble._hist_gradient_boosting.binning._BinMapper"}
)
#: Losses LossNode trusts (ALLOWED_LOSSES in skops/io/_sklearn.py).
_LOSSES = _names(
    "sklearn._loss._loss.Cy",
    "AbsoluteError ExponentialLoss HalfBinomialLoss HalfGammaLoss HalfMultinomialLoss "
    "HalfPoissonLoss HalfSquaredError HalfTweedieLoss HalfTweedieLossIdentity HuberLoss "
    "PinballLoss ",
) | _names(
    "sklearn.linear_model._sgd_fast.",
    "EpsilonInsensitive Hinge ModifiedHuber SquaredEpsilonInsensitive SquaredHinge Huber Log "
    "SquaredLoss ",
)
#: Types skops trusts only by exact name, per loader (node class).
_EXACT: dict[str, frozenset[str]] = {
    "DictNode": frozenset({"builtins.dict", "collections.OrderedDict"}),
    "DefaultDictNode": frozenset({"collections.defaultdict"}),
    "ListNode": frozenset({"builtins.list"}),
    "SetNode": frozenset({"builtins.set"}),
    "TupleNode": frozenset({"builtins.tuple"}),
    "SliceNode": frozenset({"builtins.slice"}),
    "BytesNode": frozenset({"builtins.bytes"}),
    "BytearrayNode": frozenset({"builtins.bytearray"}),
    "TypeNode": _PRIMITIVES | _CONTAINERS | _NUMPY_DTYPES,
    "FunctionNode": _NUMPY_UFUNCS,
    "NdArrayNode": frozenset({"numpy.ndarray"}) | _NUMPY_DTYPES,
    "MaskedArrayNode": frozenset({"numpy.ma.MaskedArray"}),
    "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
    "RandomGeneratorNode": frozenset({"numpy.random._generator.Generator"}),
    "SparseMatrixNode": frozenset({"scipy.sparse._matrix.spmatrix", "scipy.sparse._base.sparray"}),
    "LossNode": _LOSSES,
    "ObjectNode": _SKLEARN_INTERNAL,
}
#: Loaders whose content is plain JSON (skops calls JsonNode always safe).
_ALWAYS_SAFE = frozenset({"JsonNode"})


@dataclass(frozen=True)
class SkopsNode:
    """One object of a skops schema."""

    loader: str
    module: str
    name: str

    @property
    def type_name(self) -> str:
        """`module.class`, as skops checks it against its trusted list."""
        return f"{self.module}.{self.name}"


def default_trusted(node: SkopsNode) -> bool:
    """Whether `skops.io.load` trusts this node's type without a `trusted=` list."""
    if node.loader in _ALWAYS_SAFE:
        return True
    if node.type_name in _EXACT.get(node.loader, frozenset()):
        return True
    if node.loader == "FunctionNode":
        return node.module in _SCIPY_UFUNC_MODULES
    if node.loader == "ObjectNode":
        match = _SKLEARN_ESTIMATOR.match(node.type_name)
        return (
            match is not None
            and match.group(1) in _SKLEARN_ESTIMATOR_PACKAGES
            and node.name in _SKLEARN_ESTIMATOR_NAMES
        )
    return False  # TreeNode, ReduceNode, PartialNode, MethodNode, ... trust nothing by default


def iter_nodes(schema: Any) -> Iterator[SkopsNode]:
    """Every object node of a parsed schema (dicts with `__loader__`), depth first."""
    stack: list[Any] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            loader = item.get("__loader__")
            if loader is not None:
                module, name = item.get("__module__"), item.get("__class__")
                if not all(isinstance(v, str) for v in (loader, module, name)):
                    raise FormatError("schema.json node without string __loader__/__module__")
                yield SkopsNode(str(loader), str(module), str(name))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def load_schema(reader: ZipReader) -> Any:
    """The parsed `schema.json` of an open skops archive (bounded size and depth)."""
    if reader.listing.get(SCHEMA) is None:
        raise FormatError("zip archive has no schema.json: not a skops file")
    raw = reader.read(SCHEMA, limits.MAX_TEXT_PARSE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"schema.json is not UTF-8 (byte {exc.start})") from exc
    schema = safeparse.loads_json(text)
    if not isinstance(schema, dict) or "__loader__" not in schema:
        raise FormatError("schema.json is not a skops object tree")
    return schema


def _sklearn_version(schema: dict[str, Any]) -> str | None:
    content = schema.get("content")
    attrs = content.get("content") if isinstance(content, dict) else None
    node = attrs.get("_sklearn_version") if isinstance(attrs, dict) else None
    value = node.get("content") if isinstance(node, dict) else None
    if not isinstance(value, str):
        return None
    try:
        version = safeparse.loads_json(value)
    except FormatError:
        return None
    return version[:40] if isinstance(version, str) else None


def read_skops(path: Path) -> HeaderInfo:
    """Read a skops file's schema: estimator, protocol, objects, untrusted types."""
    with ZipReader(path) as reader:
        schema = load_schema(reader)
        npy_members = sum(1 for n in reader.listing.names if n.endswith(".npy"))
    nodes = list(iter_nodes(schema))
    top = nodes[0]
    untrusted = sorted({n.type_name for n in nodes if not default_trusted(n)})
    properties = {
        "estimator": top.type_name[:400],
        "skops.object_count": str(len(nodes)),
        "skops.array_members": str(npy_members),
        "skops.untrusted_types": str(len(untrusted)),
    }
    for key, out in (("protocol", "skops.protocol"), ("_skops_version", "skops.version")):
        value = schema.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            properties[out] = str(value)[:40]
    if untrusted:
        properties["skops.untrusted"] = ",".join(untrusted[:MAX_LISTED_TYPES])[:4096]
    version = _sklearn_version(schema)
    if version is not None:
        properties["sklearn_version"] = version
    return HeaderInfo(format="skops", properties=properties, architecture=top.name[:200])


def _not_verified(relpath: str, reason: str) -> Finding:
    from unified_supply_chain.safety.pickle_scan import RULE

    return Finding(
        rule=RULE,
        severity=Severity.HIGH,
        message=f"skops schema could not be verified safe: {reason}",
        path=f"{relpath}!{SCHEMA}",
        details=(f"error: {reason}",),
    )


def untrusted_findings(schema: Any, relpath: str) -> list[Finding]:
    """One finding per type of the schema that skops does not trust by default."""
    from unified_supply_chain.safety.pickle_scan import RULE, is_dangerous_global

    findings: list[Finding] = []
    seen: set[str] = set()
    for node in iter_nodes(schema):
        if default_trusted(node) or node.type_name in seen:
            continue
        seen.add(node.type_name)
        if len(seen) > MAX_LISTED_TYPES:
            findings.append(_not_verified(relpath, f"more than {MAX_LISTED_TYPES} untrusted types"))
            break
        detail = f"skops-untrusted-type: {node.type_name} ({node.loader})"
        if is_dangerous_global(node.module, node.name):
            # The same gadget in a pickle is critical: loading with trusted= would run it.
            message = f"skops file names {node.type_name!r}, a callable that runs code or I/O"
            severity = Severity.CRITICAL
        else:
            message = (
                f"skops type {node.type_name!r} is not trusted by default: "
                "skops.io.load(trusted=...) would need it, and it could not be verified safe"
            )
            severity = Severity.HIGH
        findings.append(Finding(RULE, severity, message, f"{relpath}!{SCHEMA}", (detail,)))
    return findings


def scan_skops(path: Path, relpath: str, fmt: str) -> list[Finding]:
    """Untrusted schema types, plus the generic zip scan of every member (object .npy arrays,
    pickles under any name). Never raises on bad input."""
    # The zip scanner itself: the content dispatch of scan_file would pick this hook again.
    from unified_supply_chain.safety.scan import scan_zip

    findings = scan_zip(path, relpath, fmt)
    try:
        with ZipReader(path) as reader:
            schema = load_schema(reader)
        findings.extend(untrusted_findings(schema, relpath))
    except (UscError, OSError, RecursionError, MemoryError) as exc:
        findings.append(_not_verified(relpath, f"{type(exc).__name__}: {exc}"))
    return findings


# --- Registry entry. ---------------------------------------------------------------------------

from unified_supply_chain.formats import FormatSpec, Kind, Sniff  # noqa: E402
from unified_supply_chain.formats._names import suffix  # noqa: E402
from unified_supply_chain.formats._zip import first_member, is_zip  # noqa: E402

#: skops names array members by the object's id(): a long run of digits (`_persist.py`).
_SKOPS_ARRAY_MEMBER = re.compile(r"^\d{6,}\.npy$")


def sniff_skops_name(head: bytes, name: str) -> bool:
    """A zip named *.skops."""
    return is_zip(head) and suffix(name) == ".skops"


def sniff_skops_members(head: bytes, name: str) -> bool:
    """A zip whose first member is schema.json or an id-named array (before .npz's rule)."""
    member = first_member(head)
    return member is not None and (member == SCHEMA or bool(_SKOPS_ARRAY_MEMBER.match(member)))


SPECS = (
    FormatSpec(
        id="skops",
        kind=Kind.MODEL,
        description="zip as *.skops, or with schema.json or <id>.npy as first member",
        extensions=(".skops",),
        sniffs=(Sniff(71, sniff_skops_name, needs_name=True), Sniff(72, sniff_skops_members)),
        reader=read_skops,
        # Untrusted types load only with trusted=; .npy members may hold object arrays.
        carries_pickles=True,
        safety=scan_skops,
    ),
)
