#!/usr/bin/env node
console.log('datagen CLI: under construction');
