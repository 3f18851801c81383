"""Keys, backends from Flask config, serializers, failure handling and locks, shared by
flask-viewcache, flask-httpcache, flask-appcache and flask-staticbust."""

from .backends import BACKENDS, make_backend, make_cache, make_serializer
from .errors import CacheConfigError, UnkeyableError
from .failsafe import CircuitBreaker, FailSafeCache
from .keys import (
    CacheKeyable,
    KeyNamespace,
    args_token,
    canonical_query,
    fit_key,
    function_key,
    hash_tag,
    qualified_name,
    request_key,
    stable_repr,
)
from .locks import MISSING, DistributedLock, SingleFlight
from .memcached import PymemcacheCache
from .memory import MemoryCache
from .redis_backends import RedisCache, RedisClusterCache, RedisSentinelCache
from .serializers import (
    InProcessSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    SignedPickleSerializer,
)
from .stampede import ComputeLease, claim_compute, claim_refresh, compute_once, get_or_create

__version__ = "0.2.0"

__all__ = [
    "BACKENDS",
    "MISSING",
    "CacheConfigError",
    "CacheKeyable",
    "CircuitBreaker",
    "ComputeLease",
    "DistributedLock",
    "FailSafeCache",
    "InProcessSerializer",
    "JSONSerializer",
    "KeyNamespace",
    "MemoryCache",
    "PickleSerializer",
    "PymemcacheCache",
    "RedisCache",
    "RedisClusterCache",
    "RedisSentinelCache",
    "Serializer",
    "SignedPickleSerializer",
    "SingleFlight",
    "UnkeyableError",
    "args_token",
    "canonical_query",
    "claim_compute",
    "claim_refresh",
    "compute_once",
    "fit_key",
    "function_key",
    "get_or_create",
    "hash_tag",
    "make_backend",
    "make_cache",
    "make_serializer",
    "qualified_name",
    "request_key",
    "stable_repr",
]
