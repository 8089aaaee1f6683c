"""The checkpoint file as a full `.keras` archive (`save_format="keras"`): written by `model.save`.

The zip `keras.models.load_model` opens: `config.json`, `metadata.json` and
`model.weights.h5` (the `.weights.h5` layout; Keras always stores the
optimizer there, so `include_optimizer=False` is refused). Loading checks
`model.weights.h5` with the `.weights.h5` reader, then `model.load_weights`
assigns: the model keeps its object, compile settings and callbacks.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Literal

import keras

from kerastools._validation import check_choice
from kerastools.checkpoints.file_checks import MAX_ELEMENTS
from kerastools.checkpoints.files import DamagedFile, archive_bytes, damaged_on
from kerastools.checkpoints.keras_format import KerasWeightsFile, read_keras_file
from kerastools.checkpoints.record import MAX_RECORD_BYTES
from kerastools.device.cluster import writing_alone
from kerastools.errors import CheckpointError, ConfigError

__all__ = [
    "ARCHIVE_SUFFIX", "SAVE_FORMATS", "WEIGHTS_IN_ARCHIVE", "WEIGHTS_SUFFIX", "SaveFormat",
    "check_save_format", "file_suffix", "read_archive", "write_archive",
]

SaveFormat = Literal["weights", "keras"]
SAVE_FORMATS: tuple[SaveFormat, ...] = ("weights", "keras")
ARCHIVE_SUFFIX = ".keras"
WEIGHTS_SUFFIX = ".weights.h5"
WEIGHTS_IN_ARCHIVE = "model.weights.h5"  # where Keras puts the variables in the zip


def check_save_format(save_format: Any, include_optimizer: bool) -> SaveFormat:
    """`save_format` checked (`"weights"` or `"keras"`), lower-cased.

    ConfigError for another value, or for `"keras"` with `include_optimizer=False`
    (an archive always holds the optimizer); ConfigTypeError for a non-string.

    Examples:
        >>> check_save_format("Keras", include_optimizer=True)
        'keras'
    """
    checked: SaveFormat = check_choice("save_format", save_format, SAVE_FORMATS)  # type: ignore[assignment]
    if checked == "keras" and not include_optimizer:
        raise ConfigError(
            "Argument `save_format='keras'` writes Keras archives, which always hold the "
            "optimizer: pass include_optimizer=True, or save_format='weights' to leave the "
            "optimizer out. Received: save_format='keras', include_optimizer=False"
        )
    return checked


def file_suffix(save_format: str) -> str:
    """The file name ending of `save_format`: `.weights.h5` or `.keras`."""
    return ARCHIVE_SUFFIX if save_format == "keras" else WEIGHTS_SUFFIX


def write_archive(model: keras.Model, target: Path) -> bytes:
    """The bytes of `model.save` (a `.keras` zip), made in memory; CheckpointError if Keras cannot."""
    try:
        with writing_alone():  # the chief saves while the other processes wait for it
            return archive_bytes(model)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds; all mean "cannot"
        raise CheckpointError(
            f"Cannot write checkpoint {target} as a Keras archive: {error}. "
            "save_format='weights' needs no serialisable model config."
        ) from error


def _config(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The archive's `config.json` (empty when it has none)."""
    if "config.json" not in archive.namelist():
        return {}
    size = archive.getinfo("config.json").file_size
    if size > MAX_RECORD_BYTES:  # a zip bomb would be decompressed whole
        raise DamagedFile(f"its config.json declares {size} bytes, more than {MAX_RECORD_BYTES}")
    document = json.loads(archive.read("config.json").decode("utf-8"))
    return document if isinstance(document, dict) else {}


def _optimizer_class(config: dict[str, Any]) -> str:
    compile_config = config.get("compile_config")
    optimizer = compile_config.get("optimizer") if isinstance(compile_config, dict) else None
    return str(optimizer.get("class_name", "")) if isinstance(optimizer, dict) else ""


def read_archive(
    path: Path, *, data: bytes | None = None, max_elements: int = MAX_ELEMENTS
) -> KerasWeightsFile:
    """Read a `.keras` archive's weights structure (nothing assigned) and its build config.

    From `data`, its bytes, when given. DamagedFile when it is no zip, lacks
    `model.weights.h5` or that is broken; CheckpointError as `read_keras_file`,
    or when its weights declare more than `max_elements` values can take.

    Examples:
        >>> _ = (tmp_path / "m.keras").write_bytes(write_archive(model, tmp_path / "m.keras"))
        >>> contents = read_archive(tmp_path / "m.keras")
        >>> contents.optimizer_classes, contents.build_config == model.get_build_config()
        ({'optimizer': 'RMSprop'}, True)
    """
    unreadable = (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError)
    with damaged_on(unreadable, "it is not a readable .keras archive"):
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as archive:
            if WEIGHTS_IN_ARCHIVE not in archive.namelist():
                raise DamagedFile(
                    f"it is a zip without {WEIGHTS_IN_ARCHIVE}, not a Keras archive with weights"
                )
            config = _config(archive)
            declared = archive.getinfo(WEIGHTS_IN_ARCHIVE).file_size
            if declared > 16 * max_elements + (1 << 24):  # a zip bomb is refused before inflating
                raise CheckpointError(
                    f"Cannot load {path}: its {WEIGHTS_IN_ARCHIVE} declares {declared} bytes, more "
                    f"than {max_elements} values of any model variable can take."
                )
            weights = archive.read(WEIGHTS_IN_ARCHIVE)
        contents = read_keras_file(path, data=weights, max_elements=max_elements)
    inner = config.get("config")
    build_config = config.get("build_config")
    optimizers = dict(contents.optimizer_classes)
    if "optimizer" in optimizers:
        optimizers["optimizer"] = _optimizer_class(config)
    return dataclasses.replace(
        contents,
        path=path,
        model_name=str(inner.get("name", "")) if isinstance(inner, dict) else "",
        optimizer_classes=optimizers,
        build_config=build_config if isinstance(build_config, dict) else contents.build_config,
    )
