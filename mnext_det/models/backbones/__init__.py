from .mobilenext import MobileNeXt, SandglassBlock

__all__ = ['MobileNeXt', 'SandglassBlock']
