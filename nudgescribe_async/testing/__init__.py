"""A local, stateful emulator of the Nudgescribe API, for testing code that uses the SDK.

```python
from nudgescribe_async.testing import Emulator

async with Emulator() as emu:
    async with emu.client() as client:
        ...
    emu.faults.fail("/v1/messages/fetch", 503, times=2)
```
"""

from ._emulator import Emulator as Emulator
from ._emulator import EmulatorCredentials as EmulatorCredentials
from ._faults import FaultRule as FaultRule
from ._faults import Faults as Faults
from ._state import Clock as Clock

__all__ = ["Clock", "Emulator", "EmulatorCredentials", "FaultRule", "Faults"]
