"""A PyTorch-style training loop written exactly as in the Runicorn v0.6 README and docs.

It runs unchanged on this implementation. torch is not needed: the numbers are simulated, and
`FakeTensor` stands in for the 0-d tensors (`loss.item()`) a real loop would log.

    RUNICORN_DIR=/tmp/rn-store python3 examples/pytorch_style.py
"""

import logging
import math
import random

import runicorn as rn


class FakeTensor:
    """What `criterion(...)` returns in PyTorch: a 0-d tensor with .item()."""

    def __init__(self, value):
        self._value = value

    def item(self):
        return self._value


def train_one_epoch(epoch, steps_per_epoch, lr):
    for i in range(steps_per_epoch):
        t = epoch * steps_per_epoch + i
        yield FakeTensor(2.0 * math.exp(-t / 50.0) + random.random() * 0.05), lr


def main():
    epochs = 3
    steps_per_epoch = 20
    lr = 1e-3

    # v0.6 README: init with a hierarchical path, console capture, tqdm-friendly logs.
    run = rn.init(path="examples/cifar10/resnet18", alias="baseline", capture_console=True,
                  tqdm_mode="smart")
    print(f"Run id: {run.id}, folder: {run.run_dir}")

    # Logging module output goes to logs.txt as well.
    logger = logging.getLogger("trainer")
    logger.setLevel(logging.INFO)
    logger.addHandler(run.get_logging_handler())

    run.log_config(args={"lr": lr, "epochs": epochs, "batch_size": 128, "model": "resnet18"})
    run.log_dataset("cifar10", "./data/cifar10", context="train", description="CIFAR-10 train")
    run.set_primary_metric("val_acc", mode="max")

    for epoch in range(epochs):
        for loss, cur_lr in train_one_epoch(epoch, steps_per_epoch, lr):
            # v0.6 raises on tensors; .item() is what v0.6 users write.
            run.log({"train_loss": loss.item(), "lr": cur_lr}, stage="train")
        val_acc = 0.5 + 0.4 * (1 - math.exp(-(epoch + 1) / 2.0))
        val_loss = 1.0 - val_acc
        run.log({"val_loss": val_loss, "val_acc": val_acc}, stage="val")
        print(f"epoch {epoch}: val_acc={val_acc:.4f} val_loss={val_loss:.4f}")
        logger.info("epoch %d done", epoch)
        lr *= 0.5

    run.summary({"final_val_acc": val_acc, "epochs": epochs})
    run.finish()
    print("done")


if __name__ == "__main__":
    main()
