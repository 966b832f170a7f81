"""The ways to get dL/dW, and the gradient check that holds one against another."""

from lingrad.grad.numerical import GradcheckResult, gradcheck, numerical_gradient, relative_error

__all__ = ["GradcheckResult", "gradcheck", "numerical_gradient", "relative_error"]
