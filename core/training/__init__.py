"""Training data: which models feed a model's training set (hierarchy), building the set,
validating it, counting its tokens, hashing and writing it as JSONL."""
