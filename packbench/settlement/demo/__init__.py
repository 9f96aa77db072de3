"""The bundled demo payment providers (Vipps MobilePay, Klarna, Stripe) on loopback: ``data``
holds what they have to tell, ``server`` serves it in the providers' API shapes."""

from packbench.settlement.demo.data import ProviderData
from packbench.settlement.demo.server import (
    DemoCredentials,
    DemoProviders,
    create_app,
    run_in_thread,
)

__all__ = ["DemoCredentials", "DemoProviders", "ProviderData", "create_app", "run_in_thread"]
