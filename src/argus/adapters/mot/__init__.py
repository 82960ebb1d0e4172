"""MOTChallenge material: file formats, TrackEval scoring, reference trackers."""
