"""all-MiniLM-L6-v2 run without torch gives the model's published similarities.

The reference numbers are the sentence-transformers documentation's own
printouts for ``SentenceTransformer("all-MiniLM-L6-v2")`` (sbert.net, "Computing
Embeddings" and "Semantic Textual Similarity" pages, 4 decimals): our vectors
must give the same cosines to within their rounding. The ONNX graph and the
numpy forward pass are two independent implementations of the same encoder
and must agree to 1e-5.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from argus.adapters.text import LazyMiniLm, MiniLmEncoder
from argus.adapters.text.minilm_files import locate_model
from argus.domain.errors import ConfigError, ValidationError
from argus.ports.text_search import TextEncoder

WEATHER = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
WEATHER_COSINES = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
STS_LEFT = ["The new movie is awesome", "The cat sits outside", "A man is playing guitar"]
STS_RIGHT = ["The dog plays in the garden", "The new movie is so great", "A woman watches TV"]
STS_COSINES = [
    [0.0543, 0.8939, -0.0502],
    [0.2838, -0.0029, 0.1310],
    [0.2277, -0.0136, -0.0327],
]
# Printed to 4 decimals; float32 on another library adds well under 1e-5.
PUBLISHED_TOLERANCE = 0.5e-4 + 2e-5

SURVEILLANCE = [
    "a person loitering near the north gate at night",
    "someone lingering by the north entrance after dark",
    "a car crossing the kerb line on Sunday afternoon",
    "a vehicle drove over the curb line",
    "",
    "x",
    "A bicycle entered zone B heading east, dwell 45 seconds, red jacket",
]


@pytest.fixture(scope="module")
def onnx_encoder() -> MiniLmEncoder:
    return MiniLmEncoder.load(backend="onnx", threads=1)


@pytest.fixture(scope="module")
def numpy_encoder() -> MiniLmEncoder:
    return MiniLmEncoder.load(backend="numpy")


@pytest.fixture(params=["onnx", "numpy"])
def encoder(
    request: pytest.FixtureRequest, onnx_encoder: MiniLmEncoder, numpy_encoder: MiniLmEncoder
) -> MiniLmEncoder:
    return onnx_encoder if request.param == "onnx" else numpy_encoder


def test_the_published_similarities_of_the_sentence_transformers_docs(
    encoder: MiniLmEncoder,
) -> None:
    weather = encoder.encode(WEATHER)
    np.testing.assert_allclose(weather @ weather.T, WEATHER_COSINES, atol=PUBLISHED_TOLERANCE)
    sts = encoder.encode(STS_LEFT) @ encoder.encode(STS_RIGHT).T
    np.testing.assert_allclose(sts, STS_COSINES, atol=PUBLISHED_TOLERANCE)


def test_the_onnx_graph_and_the_numpy_pass_agree(
    onnx_encoder: MiniLmEncoder, numpy_encoder: MiniLmEncoder
) -> None:
    texts = [*SURVEILLANCE, "word " * 400]
    np.testing.assert_allclose(
        onnx_encoder.encode(texts), numpy_encoder.encode(texts), rtol=0, atol=1e-5
    )


def test_vectors_are_unit_float32_rows_of_384(encoder: MiniLmEncoder) -> None:
    vectors = encoder.encode(SURVEILLANCE)
    assert vectors.shape == (len(SURVEILLANCE), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.dim == 384
    assert encoder.model_ref.startswith("all-minilm-l6-v2@")
    assert isinstance(encoder, TextEncoder)


def test_a_batch_gives_what_each_sentence_gives_alone_and_runs_repeat(
    encoder: MiniLmEncoder,
) -> None:
    together = encoder.encode(SURVEILLANCE)
    alone = np.stack([encoder.encode([text])[0] for text in SURVEILLANCE])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(encoder.encode(SURVEILLANCE), together)
    reordered = encoder.encode(SURVEILLANCE[::-1])[::-1]
    np.testing.assert_allclose(reordered, together, rtol=0, atol=1e-5)


def test_paraphrases_are_nearer_than_unrelated_sentences(encoder: MiniLmEncoder) -> None:
    loiter, linger, car, kerb = encoder.encode(SURVEILLANCE[:4])
    assert float(loiter @ linger) > float(loiter @ car) + 0.2
    assert float(car @ kerb) > float(car @ linger) + 0.2


def test_text_is_truncated_at_the_models_256_word_pieces(encoder: MiniLmEncoder) -> None:
    assert encoder.max_tokens == 256
    long_text = "camera " * 300
    ids = encoder.token_ids(long_text)
    assert len(ids) == 256
    assert ids[0] == 101  # [CLS]
    assert ids[-1] == 102  # [SEP], kept after truncation
    first, second = encoder.encode([long_text + "alpha", long_text + "a bright red truck"])
    np.testing.assert_array_equal(first, second)


def test_nothing_to_encode_and_wrong_inputs(encoder: MiniLmEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(ValidationError):
        encoder.encode("one string")
    with pytest.raises(ValidationError):
        encoder.encode(["ok", 3])  # type: ignore[list-item]


def test_unknown_backend_and_batch_size_are_refused() -> None:
    with pytest.raises(ConfigError):
        MiniLmEncoder(locate_model(), backend="torch")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        MiniLmEncoder(locate_model(), backend="numpy", batch_size=0)


def test_the_lazy_encoder_loads_once_whichever_thread_comes_first(
    numpy_encoder: MiniLmEncoder,
) -> None:
    lazy = LazyMiniLm(backend="numpy")
    assert not lazy.loaded
    assert (lazy.dim, lazy.model_ref) == (384, numpy_encoder.model_ref)
    built: list[MiniLmEncoder] = []
    start = threading.Barrier(4)

    def use() -> None:
        start.wait(timeout=30)
        built.append(lazy.encoder())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(built) == 4
    assert all(item is built[0] for item in built)
    np.testing.assert_array_equal(lazy.encode(WEATHER), numpy_encoder.encode(WEATHER))
