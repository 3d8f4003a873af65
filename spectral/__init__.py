"""Audio features (STFT, mel, MFCC, CQT), spectral losses and sound descriptors, shared by training, evaluation,
matching and the explorer."""
