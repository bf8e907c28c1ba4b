"""Open-weights LoRA fine-tuning on this machine (CPU, or CUDA where present): base models,
training examples, the training loop and process, and generation. No streamlit, no services:
the ``open_weights`` provider drives it."""
