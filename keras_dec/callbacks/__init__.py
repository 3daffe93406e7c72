from keras_dec.callbacks.target_refresh import TargetRefresh

__all__ = ["TargetRefresh"]
