"""Hugging Face Hub targets (`hf://org/name@rev`): vet a repository before downloading it.

The file list, sizes, LFS digests and the resolved commit come from `huggingface_hub`'s `HfApi`;
file bytes are read with HTTP range requests, only as far as each analyser reads them, so a
safetensors file costs its header and a PyTorch zip its central directory and pickles.
"""
