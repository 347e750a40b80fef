"""PyTorch references for `make parity`: torchvision's ResNet, VGG and AlexNet written in plain
torch.nn with torchvision's module layout and attribute names (so `state_dict()` keys are
torchvision's), plus the extras ConvKit has (a channel width, the small-image ResNet stem).

Dropout layers draw ConvKit's masks (ConvKitDropout): ConvKit derives a layer's seed from the
call seed and the layer's path (ForwardMode.child: FNV-1a of the key through the SplitMix64
finaliser) and element i is dropped when the top 24 bits of mix(seed + (i + 1)·γ) fall below
round(p·2²⁴) (DropoutKernel.fillMask). Reproducing that here makes training mode comparable.
"""
import numpy as np
import torch
import torch.nn as nn

M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix(z: int) -> int:
    """SplitMix64 finaliser (SeedMixing.mix)."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def child_seed(seed: int, key: str) -> int:
    """ForwardMode.child(key).seed."""
    h = 0xCBF29CE484222325
    for b in key.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return mix(seed ^ mix(h))


def path_seed(seed: int, path: str) -> int:
    for key in path.split("."):
        seed = child_seed(seed, key)
    return seed


def convkit_mask(count: int, p: float, seed: int) -> np.ndarray:
    """DropoutKernel.fillMask as float32 (0 or 1/(1-p))."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(GAMMA)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    u = z >> np.uint64(40)
    threshold = np.uint64(int(round(float(np.float32(p)) * 16777216)))
    keep = np.float32(1) / (np.float32(1) - np.float32(p)) if p < 1 else np.float32(0)
    return np.where(u < threshold, np.float32(0), keep).astype(np.float32)


class ConvKitDropout(nn.Module):
    """nn.Dropout with ConvKit's mask for the call seed `self.seed` at path `self.path`."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p
        self.path = ""
        self.seed = 0

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        mask = convkit_mask(x.numel(), self.p, path_seed(self.seed, self.path))
        return x * torch.from_numpy(mask).reshape(x.shape)


def set_dropout_seed(model: nn.Module, seed: int):
    for name, m in model.named_modules():
        if isinstance(m, ConvKitDropout):
            m.path, m.seed = name, seed


# --- ResNet (torchvision.models.resnet) -------------------------------------------------------

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, width=64, small_stem=False):
        super().__init__()
        self.inplanes = width
        if small_stem:  # ConvKit's ResNet.Stem.smallImage (not in torchvision)
            self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_stem else nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


RESNET = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3])}


# --- VGG (torchvision.models.vgg) -------------------------------------------------------------

VGG_CFG = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, depth, batch_norm=True, num_classes=1000, width=64, hidden=4096, dropout=0.5):
        super().__init__()
        layers, c = [], 3
        for v in VGG_CFG[depth]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                o = max(1, v * width // 64)
                layers.append(nn.Conv2d(c, o, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(o))
                layers.append(nn.ReLU(inplace=True))
                c = o
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden), nn.ReLU(True), ConvKitDropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), ConvKitDropout(dropout),
            nn.Linear(hidden, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# --- AlexNet (torchvision.models.alexnet) -----------------------------------------------------

class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, hidden=4096, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            ConvKitDropout(dropout), nn.Linear(256 * 36, hidden), nn.ReLU(True),
            ConvKitDropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(True),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
