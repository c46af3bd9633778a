console.log("pysh");
