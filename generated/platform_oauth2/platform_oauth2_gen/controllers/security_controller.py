from typing import List

