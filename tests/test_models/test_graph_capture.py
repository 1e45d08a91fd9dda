"""`capturing_graph`: true while torch.compile or TorchScript tracing captures
a forward, false in eager mode."""
import torch
from torch import nn

from mnext_det.models.graph_capture import capturing_graph


class _Marks(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1 if capturing_graph() else x


def test_false_in_eager_mode():
    x = torch.zeros(2)
    assert not capturing_graph()
    assert torch.equal(_Marks()(x), x)


def test_true_under_tracing_and_compile():
    x = torch.zeros(2)
    traced = torch.jit.trace(_Marks(), x)
    assert torch.equal(traced(x), x + 1)
    torch._dynamo.reset()
    compiled = torch.compile(_Marks(), backend='eager')
    assert torch.equal(compiled(x), x + 1)
    assert torch.equal(_Marks()(x), x)  # capture over: eager again
