"""``tinyemo profile``: a speaker profile (mean and std of the 10-ms log-mels) for
``tinyemo predict --stream --profile``."""
from __future__ import annotations

import argparse
from pathlib import Path

from tinyemo.cli.boundary import run_command
from tinyemo.util.fileio import check_writable
from tinyemo.frontend.audio import check_audio_path
from tinyemo.runs.ensemble import Ensemble
from tinyemo.serve.profile import profile_of_files, training_profile
from tinyemo.serve.streaming import model_options, model_sample_rate
from tinyemo.util.settings import SettingError

__all__ = ["profile_main", "profile_parser"]


def profile_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinyemo profile", description="Save a speaker profile "
                                "(mean and std of the 10-ms log-mels) for tinyemo predict "
                                "--stream --profile: from enrolment audio of the speaker, or "
                                "from the model's training corpus.")
    p.add_argument("--model", required=True, type=Path, help="a folder written by tinyemo train")
    p.add_argument("audio", nargs="*", type=Path, help="enrolment recordings of one speaker")
    p.add_argument("--from-training", action="store_true",
                   help="pool the model's training partition instead (all its speakers)")
    p.add_argument("--out", required=True, type=Path, help="the profile file to write (.npz)")
    return p


def profile_main(argv=None) -> int:
    parser = profile_parser()
    args = parser.parse_args(argv)

    def run() -> int:
        if bool(args.audio) == args.from_training:
            raise SettingError("from_training", "give enrolment audio files or --from-training")
        check_writable(args.out, "the profile file (.npz)")
        for audio in args.audio:
            check_audio_path(audio)
        ensemble = Ensemble(args.model)
        options, rate = model_options(ensemble)[0], model_sample_rate(ensemble)
        profile = (training_profile(ensemble.config, options, rate) if args.from_training
                   else profile_of_files(args.audio, options, rate))
        profile.warn_if_short(str(args.out))
        profile.save(args.out)
        seconds = profile.frames * options.frame_shift / 1000
        print(f"{args.out}: {profile.frames} frames ({seconds:.1f} s) from {profile.source}")
        return 0
    return run_command(parser, run)

