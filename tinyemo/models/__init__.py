"""The paper's models: settings (:mod:`.config`), the nets built from the engine's layers
(:mod:`.nets`), and how far each looks (:mod:`.context`)."""
from tinyemo.models.config import ARCHITECTURES, DEFAULT_WIDTH, ModelConfig, used_settings
from tinyemo.models.context import Context, context, receptive_field
from tinyemo.models.nets import BLSTM, build_model

__all__ = ["ModelConfig", "build_model", "receptive_field", "context", "Context",
           "ARCHITECTURES", "DEFAULT_WIDTH", "BLSTM", "used_settings"]
