"""The one registry helper (pytorch_backend/utils/registry.py) and the four registries on it."""

import pytest

from pytorch_backend.errors import ConfigError
from pytorch_backend.ser import CLASSIFIERS, build_classifier
from pytorch_backend.text import TOKENIZERS, build_tokenizer
from pytorch_backend.tts import MODELS, build_model
from pytorch_backend.utils.registry import Registry, constructor_keywords
from pytorch_backend.vocoders import VOCODERS, build_vocoder
from tts_fixtures import FEATS_CONF


class Base:
    def __init__(self, size: int, *, width: int = 2, depth: int = 1):
        self.size, self.width, self.depth = size, width, depth


class Child(Base):
    def __init__(self, size: int, *, colour: str = "red", **kwargs):
        super().__init__(size, **kwargs)
        self.colour = colour


class Closed(Base):
    """Does not forward **kwargs: its base's keywords are not its own."""

    def __init__(self, size: int, *, shape: str = "round"):
        super().__init__(size)
        self.shape = shape


class Inherits(Child):
    """No __init__ of its own: the inherited one's keywords (and its bases') count."""


class Picky(Base):
    def __init__(self, size: int, *, width: int = 2):
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        super().__init__(size, width=width)


def toy_registry():
    reg = Registry("widget", name_key="widget", conf_key="widget_conf", data_args=("size",))
    reg.register("child", Child)
    reg.register("closed", Closed)
    reg.register("inherits", Inherits)
    reg.register("picky")(Picky)  # the decorator form
    return reg


def test_keywords_walk_up_kwargs_to_the_bases():
    assert constructor_keywords(Child) == {"size", "colour", "width", "depth"}
    assert constructor_keywords(Closed) == {"size", "shape"}
    assert constructor_keywords(Inherits) == {"size", "colour", "width", "depth"}
    reg = toy_registry()
    assert reg.keywords("child") == {"colour", "width", "depth"}  # data_args left out


def test_registry_reads_like_a_dict_and_refuses_a_second_class_under_one_name():
    reg = toy_registry()
    assert list(reg) == ["child", "closed", "inherits", "picky"] and len(reg) == 4
    assert reg["child"] is Child and reg.get("nope") is None and "closed" in reg
    assert dict(reg.items())["picky"] is Picky
    reg.register("child", Child)  # the same class again is harmless
    with pytest.raises(ValueError, match="widget 'child' is already registered"):
        reg.register("child", Closed)
    with pytest.raises(TypeError):
        reg["new"] = Child  # entries are added with register()


def test_build_passes_data_args_and_conf_keywords():
    w = toy_registry().build("child", {"colour": "blue", "depth": 3}, "w.yaml", 7)
    assert (w.size, w.colour, w.width, w.depth) == (7, "blue", 2, 3)
    w = toy_registry().build("closed", None, "w.yaml", size=5)
    assert (w.size, w.shape) == (5, "round")


def test_build_errors_name_file_key_and_the_known_names():
    reg = toy_registry()
    with pytest.raises(ConfigError) as err:
        reg.build("gadget", {}, "conf/w.yaml", 1)
    assert err.value.key == "widget" and err.value.path == "conf/w.yaml"
    assert str(err.value) == ("conf/w.yaml: key 'widget': unknown widget 'gadget' "
                              "(known: child, closed, inherits, picky)")
    with pytest.raises(ConfigError) as err:
        reg.build("closed", {"width": 3}, "conf/w.yaml", 1)  # a base keyword Closed does not forward
    assert err.value.key == "widget_conf.width"
    assert "unknown keyword of widget 'closed' (known: shape)" in str(err.value)
    with pytest.raises(ConfigError) as err:
        reg.build("child", {"size": 3}, "conf/w.yaml", 1)  # a data argument is not a conf keyword
    assert err.value.key == "widget_conf.size"
    with pytest.raises(ConfigError) as err:
        reg.build("picky", {"width": 0}, "conf/w.yaml", 1)
    assert err.value.key == "widget_conf"
    assert "invalid widget_conf for widget 'picky': width must be >= 1, got 0" in str(err.value)


@pytest.mark.parametrize("build, key, known", [
    (lambda: build_model("nope", {}, 10, 1, 1, 80, source="s.yaml"), "model", sorted(MODELS)),
    (lambda: build_vocoder("nope", {}, FEATS_CONF, source="s.yaml"), "name", sorted(VOCODERS)),
    (lambda: build_classifier("nope", {}, 3, 80, source="s.yaml"), "ser.model", sorted(CLASSIFIERS)),
    (lambda: build_tokenizer("nope", source="s.yaml"), "token_type", sorted(TOKENIZERS)),
], ids=["tts", "vocoders", "ser", "text"])
def test_every_registry_names_file_key_and_known_names(build, key, known):
    with pytest.raises(ConfigError) as err:
        build()
    assert err.value.path == "s.yaml" and err.value.key == key
    assert f"'nope' (known: {', '.join(known)})" in str(err.value)


@pytest.mark.parametrize("build, key", [
    (lambda: build_model("gst", {"warp": 1}, 10, 1, 1, 80, source="s.yaml"), "model_conf.warp"),
    (lambda: build_model("emo_cvae", {"num_tokens": 1}, 10, 1, 1, 80, source="s.yaml"), "model_conf.num_tokens"),
    (lambda: build_vocoder("griffin_lim", {"warp": 1}, FEATS_CONF, source="s.yaml"), "conf.warp"),
    (lambda: build_vocoder("griffin_lim", {"feats_conf": {}}, FEATS_CONF, source="s.yaml"), "conf.feats_conf"),
    (lambda: build_classifier("cnn_pool", {"warp": 1}, 3, 80, source="s.yaml"), "ser.model_conf.warp"),
], ids=["tts", "tts-data-arg", "vocoder", "vocoder-data-arg", "ser"])
def test_every_registry_checks_keywords_against_the_constructor(build, key):
    with pytest.raises(ConfigError) as err:
        build()
    assert err.value.path == "s.yaml" and err.value.key == key and "unknown keyword" in str(err.value)


def test_model_keywords_include_the_bases_of_subclasses():
    # emo_cvae -> vae -> tacotron2 through **kwargs: all three constructors' keywords are known
    known = MODELS.keywords("emo_cvae")
    assert {"prior_scale", "kl_weight", "latent_dim", "embed_dim", "reduction_factor"} <= known
    assert not known & {"num_tokens", "num_speakers", "num_emotions", "n_mels", "kwargs"}
    assert "gst_tokens" not in MODELS.keywords("tacotron2")
