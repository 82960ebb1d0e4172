"""Settings of the learning loop (issue 21): hard examples, models, search.

Each part keeps its fields in its own section below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LearningSettings"]


class LearningSettings(BaseSettings):
    """The learning loop's settings (``ARGUS_*``)."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    # --- hard examples (part A) ---
    examples_enabled: bool = Field(
        default=True,
        description="Collect hard examples (ARGUS_EXAMPLES_ENABLED): frames of alerts an "
        "operator dismissed or confirmed, detections inside the uncertainty band and tracker "
        "trouble, sealed like evidence, for people to label.",
    )
    examples_band_low: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Lowest detection score of the uncertainty band (ARGUS_EXAMPLES_BAND_LOW).",
    )
    examples_band_high: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Score the uncertainty band ends below (ARGUS_EXAMPLES_BAND_HIGH); "
        "above ARGUS_EXAMPLES_BAND_LOW.",
    )
    examples_short_track_frames: int = Field(
        default=3,
        ge=0,
        le=100,
        description="A track that ends after at most this many frames is a candidate "
        "(ARGUS_EXAMPLES_SHORT_TRACK_FRAMES); 0 samples no short tracks.",
    )
    examples_switch_distance_px: float = Field(
        default=48.0,
        ge=0.0,
        le=2000.0,
        description="A new track that starts within this many pixels of where another ended, "
        "near a counting line, is a candidate identity switch "
        "(ARGUS_EXAMPLES_SWITCH_DISTANCE_PX); 0 samples none.",
    )
    examples_min_gap_s: float = Field(
        default=10.0,
        ge=0.0,
        le=86_400.0,
        description="Fewest seconds between two sampled candidates of one camera "
        "(ARGUS_EXAMPLES_MIN_GAP_S).",
    )
    examples_per_camera_hour: int = Field(
        default=20,
        ge=0,
        le=10_000,
        description="Most sampled candidates (uncertain, short track, identity switch) one "
        "camera queues per hour (ARGUS_EXAMPLES_PER_CAMERA_HOUR); verdicts are not counted.",
    )
    examples_max_queued_per_camera: int = Field(
        default=500,
        ge=1,
        le=1_000_000,
        description="Most unlabelled examples of one camera per source "
        "(ARGUS_EXAMPLES_MAX_QUEUED_PER_CAMERA); past it new ones of that source are skipped.",
    )
    examples_boxes_window_s: float = Field(
        default=900.0,
        ge=0.0,
        le=86_400.0,
        description="Seconds of recent detections kept per local camera so that an alert's "
        "example gets the model's boxes when a verdict comes "
        "(ARGUS_EXAMPLES_BOXES_WINDOW_S); a later verdict's example has none.",
    )
    examples_retention_days: float = Field(
        default=180.0,
        ge=0.0,
        le=36_500.0,
        description="Examples captured longer ago than this are deleted with their frames "
        "(ARGUS_EXAMPLES_RETENTION_DAYS); 0 keeps them. Accepted examples (the annotated set) "
        "are kept until a privacy erasure covers them.",
    )

    # --- labelling (part B) ---
    labelling_lease_s: float = Field(
        900.0,
        ge=60.0,
        le=86_400.0,
        description="Seconds a claim holds a hard example for its labeller (renewed by each save).",
    )

    # --- dataset export (part C) ---
    dataset_max_examples: int = Field(
        2000,
        ge=1,
        le=20_000,
        description="Most labelled examples one dataset export takes (it is built in memory).",
    )
    dataset_licence: str = Field(
        "site footage",
        min_length=1,
        max_length=500,
        description="Licence of the source video recorded in exports that name none.",
    )

    # --- model registry (part D1) ---
    model_run_events: bool = Field(
        default=False,
        description="Publish a model.running event at the first analysed frame of every camera "
        "run, with the name@version the run really detects with (ARGUS_MODEL_RUN_EVENTS): "
        "proof in the camera's events that an assignment, promotion or rollback took effect.",
    )

    # --- shadow runs and evaluations (part D2) ---
    shadow_sample_every: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Default for a new shadow run: compare the candidate with production on "
        "one analysed frame in this many (ARGUS_SHADOW_SAMPLE_EVERY).",
    )
    shadow_report_every: int = Field(
        default=60,
        ge=1,
        le=10_000,
        description="Default for a new shadow run: publish an agreement report every this "
        "many compared frames (ARGUS_SHADOW_REPORT_EVERY).",
    )
    evaluation_max_examples: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="Most accepted hard examples one evaluation scores, newest first "
        "(ARGUS_EVALUATION_MAX_EXAMPLES).",
    )

    # --- rule suggestions (part E) ---
    suggestions_days: float = Field(
        30.0,
        gt=0.0,
        le=365.0,
        description="Days of reviewed alerts a refresh of the rule suggestions reads.",
    )
    suggestions_min_false_positives: int = Field(
        3,
        ge=1,
        le=10_000,
        description="A suggestion must have suppressed at least this many past false positives.",
    )
    suggestions_max_true_loss: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="A suggestion may lose at most this share of the confirmed alerts.",
    )
    suggestions_max_quiet_hours: int = Field(
        8,
        ge=1,
        le=23,
        description="A suggested schedule silences a rule for at most this many hours a day.",
    )

    # --- search (parts F1, F2) ---
    search_index: Literal["auto", "sqlite-vec", "usearch", "memory"] = Field(
        default="auto",
        description="Vector index of search in words (ARGUS_SEARCH_INDEX): sqlite-vec (a "
        "SQLite file beside the database, exact), usearch (an in-process HNSW graph saved to a "
        "file), memory (exact, lost on restart); auto: sqlite-vec with a SQLite database, "
        "usearch with PostgreSQL (and wherever sqlite-vec cannot be loaded).",
    )
    search_index_path: Path | None = Field(
        default=None,
        description="File of the vector index (ARGUS_SEARCH_INDEX_PATH); default: beside the "
        "SQLite database (argus.vectors.db), else search/vectors.usearch in ARGUS_DATA_DIR.",
    )
    search_encoder: Literal["onnx", "numpy"] = Field(
        default="onnx",
        description="Runner of the text encoder all-MiniLM-L6-v2 (ARGUS_SEARCH_ENCODER): "
        "onnx (ONNX Runtime on a graph built from the packaged weights, faster) or numpy; "
        "both give the same vectors.",
    )
    search_encoder_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="ONNX Runtime threads of the text encoder (ARGUS_SEARCH_ENCODER_THREADS); "
        "0 lets the runtime use every core (video analysis shares them).",
    )
    search_enabled: bool = Field(
        default=True,
        description="Index events, alerts and incidents for search in words "
        "(ARGUS_SEARCH_ENABLED); off: GET /search answers from what is already indexed.",
    )
    search_candidates: int = Field(
        default=512,
        ge=16,
        le=10_000,
        description="Most distinct descriptions the vector index returns per question "
        "(ARGUS_SEARCH_CANDIDATES); the items that pass the filters are read from them.",
    )
