"""Each lab's verdicts on the lab engine: reference, starter, other practitioners' right and wrong answers."""
