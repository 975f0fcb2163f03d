"""Blizzard Challenge 2013 (Lessac Technologies): audiobooks read by Catherine Byers, in either of
the two segmented releases (cut into sentences): ``BC2013_segmented_v0_{txt,wav}{1,2}/<book>/`` or
``train/segmented/prompts.gui`` + ``train/segmented/wavn/``. Jane Eyre is the expressive book of the
GST paper's data."""

from local.common.source import Source

SOURCE = Source(
    name="Blizzard Challenge 2013",
    obtain="accept the Blizzard Challenge 2013 licence at https://www.cstr.ed.ac.uk/projects/blizzard/2013/"
           "lessac_blizzard2013/ to get a password for https://data.cstr.ed.ac.uk/blizzard2013/lessac/, then "
           "either download BC2013_segmented_v0_txt1.zip, BC2013_segmented_v0_wav1.zip (and txt2/wav2) and "
           "unzip them into one directory, or take the segmented training release (train/segmented/"
           "prompts.gui with its wavn/ folder of <id>.wav files) and unpack it keeping its train/segmented/ "
           "folders.",
    licence="Blizzard Challenge 2013 licence (non-commercial research), password-protected",
    gated=True,
    layout=("BC2013_segmented_v*_wav*", "BC2013_segmented_v*_txt*"),
    alternatives=(("train/segmented/prompts.gui", "train/segmented/wavn/*.wav"),
                  ("prompts.gui", "wavn/*.wav")),
)
